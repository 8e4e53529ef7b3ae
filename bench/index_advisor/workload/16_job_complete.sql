-- weight: 10  (write: finish a job)
\set j random(1, @JOBS@)
UPDATE jobs SET status = 'done', attempts = attempts + 1 WHERE id = :j;
