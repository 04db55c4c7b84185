-- A reserved login attempt is in flight (its password still being checked) until it is
-- settled as a failure: a limit reached only by attempts in flight answers "busy, try
-- again in a moment" rather than "too many failures", since none may have failed yet.
-- Rows written before this column counted as failures, and still do.
ALTER TABLE login_failures ADD COLUMN settled BOOLEAN NOT NULL DEFAULT TRUE;
