-- Plain DuckDB SQL for three representative rules: the reference point our
-- pandas rules are timed against (benchmarks/pipeline_stages.py). Same readings
-- as src/anomaly/rules/visit_quota.py, visitor_entitlement.py and
-- transfer_grounds.py. Tables are registered from the accepted rows; the
-- quota table and the parameters come from the rule book.

-- name: VIS-QUOTA
WITH v AS (
    SELECT visit_id, convict_id, facility_id, visit_type, started_at,
           year(started_at) AS y
    FROM visit_logs
), vc AS (
    SELECT v.*, c.to_condition
    FROM v ASOF LEFT JOIN condition_changes c
      ON v.convict_id = c.convict_id AND v.started_at >= c.changed_on
), numbered AS (
    SELECT vc.*, f.security_level,
           row_number() OVER (PARTITION BY vc.convict_id, vc.y, vc.visit_type
                              ORDER BY vc.started_at, vc.visit_id) AS n
    FROM vc JOIN facilities f USING (facility_id)
), extras AS (
    SELECT n.visit_id, count(e.event_id) AS extras
    FROM numbered n
    LEFT JOIN disciplinary_events e
      ON e.convict_id = n.convict_id AND e.kind = 'incentive'
     AND e.measure = 'extra_' || n.visit_type || '_visit'
     AND year(e.occurred_on) = n.y AND e.occurred_on <= n.started_at
    GROUP BY n.visit_id
)
SELECT n.visit_id
FROM numbered n
JOIN extras x USING (visit_id)
JOIN quotas q
  ON q.level = n.security_level AND q.condition = n.to_condition AND q.visit_type = n.visit_type
WHERE n.n > q.quota + x.extras;

-- name: VIS-KIN
SELECT v.visit_id
FROM visit_logs v
LEFT JOIN kinship k
  ON k.convict_id = v.convict_id AND k.person_id = v.visitor_person_id
WHERE v.visit_type = 'long'
  AND (v.visitor_person_id IS NULL
       OR k.relation IS NULL
       OR k.relation NOT IN (SELECT relation FROM entitled_relations)
       OR k.registered_on > CAST(v.started_at AS DATE)
       OR (k.registered_on > CAST(v.started_at AS DATE) - to_days($lead_days)
           AND k.document_no IS NULL));

-- name: TRF-GROUNDS
SELECT transfer_id
FROM transfers
WHERE ground IS NULL
   OR order_no IS NULL
   OR (ground = 'operational_need' AND coalesce(consent, false) = false);
