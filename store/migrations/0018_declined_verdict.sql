-- A question the offline parser could not read in full is declined (error code not_understood):
-- neither a guardrail rejection nor a failure, and admins filter it on its own.
ALTER TABLE vanguard.nlq_audit DROP CONSTRAINT nlq_audit_verdict_check;
ALTER TABLE vanguard.nlq_audit ADD CONSTRAINT nlq_audit_verdict_check
    CHECK (verdict IN ('allowed', 'rejected', 'declined', 'error'));
