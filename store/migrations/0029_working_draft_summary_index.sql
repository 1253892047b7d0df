-- The matrix says how many working drafts it applied, the KPIs and the timeline widen their bounds
-- by the drafts' dates, and every filtered count of the grid counts the caller's drafts that match.
-- Each filtered every draft row of the user (10,000 drafts: about 10 ms each, a scan of wide rows
-- that carry their merged records). This index holds only the working drafts on records PEMS
-- still has, with those dates and the grid's filter columns, so all of them are index-only scans.
CREATE INDEX pfa_draft_working_live ON vanguard.pfa_draft (organization_id, user_id)
    INCLUDE (record_id, plan_start, plan_end, forecast_start, forecast_end,
             category, class, source, dor, area, manufacturer)
    WHERE state = 'draft' AND NOT record_deleted;
