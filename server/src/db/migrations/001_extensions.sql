-- PostGIS for geometry, ltree for region paths ("everything under street X").
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS ltree;
