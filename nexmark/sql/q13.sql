-- Query 13: bounded side input join. Every bid enriched with the side
-- input's value for key auction mod 10000: a lookup join against a file of
-- "i,i" lines (the nexmark project's side input; ${SIDE_INPUT} is its path).
CREATE TABLE side_input (
    key BIGINT,
    `value` VARCHAR
) WITH (
    'connector' = 'filesystem',
    'path' = '${SIDE_INPUT}',
    'format' = 'csv'
);

CREATE TABLE nexmark_q13 (
    auction BIGINT, bidder BIGINT, price BIGINT, `dateTime` TIMESTAMP(3), `value` VARCHAR
) WITH ('connector' = 'blackhole');

INSERT INTO nexmark_q13
SELECT B.auction, B.bidder, B.price, B.`dateTime`, S.`value`
FROM (SELECT *, PROCTIME() AS p_time FROM bid) B
JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S
ON mod(B.auction, 10000) = S.key;
