-- Query 7: highest bid — the bids with the highest price of each 10 s
-- window. The nexmark project's query selects B.price before B.bidder
-- into a sink declared (auction, bidder, price): Flink inserts by position,
-- so its bidder column gets prices. This version selects them in the
-- sink's order, as the DataStream version (and the query's intent) has it.
CREATE TABLE nexmark_q7 (
    auction BIGINT, bidder BIGINT, price BIGINT, `dateTime` TIMESTAMP(3), extra VARCHAR
) WITH ('connector' = 'blackhole');

INSERT INTO nexmark_q7
SELECT B.auction, B.bidder, B.price, B.`dateTime`, B.extra
FROM bid B
JOIN (
    SELECT MAX(price) AS maxprice, window_end AS `dateTime`
    FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND))
    GROUP BY window_start, window_end
) B1
ON B.price = B1.maxprice
WHERE B.`dateTime` BETWEEN B1.`dateTime` - INTERVAL '10' SECOND AND B1.`dateTime`;
