-- Weir's SQL demo: orders generated on the fly (no setup), aggregated per
-- 10-second event-time window and per category, as Flink SQL would.
--   go run ./cmd/weir sql -f examples/sql/demo.sql

CREATE TABLE orders (
  order_id    BIGINT,
  customer_id INT,
  amount      DECIMAL(10, 2),
  category    AS CASE MOD(order_id, 4) WHEN 0 THEN 'books' WHEN 1 THEN 'games'
                                       WHEN 2 THEN 'music' ELSE 'tools' END,
  order_time  AS TO_TIMESTAMP_LTZ(1767225600000 + order_id * 100, 3),
  WATERMARK FOR order_time AS order_time - INTERVAL '1' SECOND
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '2000',
  'number-of-rows' = '6000',
  'fields.order_id.kind' = 'sequence',
  'fields.order_id.start' = '1',
  'fields.order_id.end' = '6000',
  'fields.customer_id.min' = '1',
  'fields.customer_id.max' = '50',
  'fields.amount.min' = '1',
  'fields.amount.max' = '200'
);

SET 'sql-client.execution.result-mode' = 'tableau';
SET 'table.local-time-zone' = 'UTC';

-- Revenue per category and 1-minute window, final when the watermark
-- passes the window's end.
SELECT window_start, window_end, category,
       COUNT(*) AS orders, SUM(amount) AS revenue, MAX(amount) AS biggest
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(order_time), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, category;

-- An updating result: each change of a customer's total retracts the old
-- row (-U) and adds the new one (+U); the 'table' result mode prints the
-- table this changelog materialises when the query ends.
SET 'sql-client.execution.result-mode' = 'table';
SELECT customer_id, COUNT(*) AS orders, SUM(amount) AS total
FROM orders
WHERE customer_id <= 3
GROUP BY customer_id;
