-- Financial masking: a membership may hide money (rates, prices, costs, variance) from its user.
-- Costs are shown unless an administrator hides them, so existing members keep what they see.
ALTER TABLE vanguard.memberships ADD COLUMN sees_costs boolean NOT NULL DEFAULT true;
