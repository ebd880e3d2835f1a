-- Run once by the postgres image, on an empty data volume: one database per service
-- (a service never reads another's tables). pg_trgm backs the patients' name search;
-- the patients migrations create it too, this only saves them the privilege question.
CREATE DATABASE pms_auth;
CREATE DATABASE pms_patients;
CREATE DATABASE pms_billing;
CREATE DATABASE pms_analytics;
\connect pms_patients
CREATE EXTENSION IF NOT EXISTS pg_trgm;
