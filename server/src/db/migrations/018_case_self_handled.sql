-- Handled on the spot (小事不出格 — 自行处置): a grid worker who found a small problem and dealt with it at once
-- reports it already handled; the case waits for verification by someone else like any other.
ALTER TABLE cases ADD COLUMN self_handled boolean NOT NULL DEFAULT false;
