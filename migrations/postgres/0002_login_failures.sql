-- Failed logins, shared by every instance so that a brute force spread over instances is
-- throttled as one. `account` is cleared (not the row deleted) when the account logs in:
-- its failures are forgiven, while the addresses they came from keep counting them.
CREATE TABLE login_failures (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT,
    address TEXT NOT NULL,
    at      BIGINT NOT NULL  -- Unix milliseconds
);
CREATE INDEX login_failures_by_account ON login_failures (account, at);
CREATE INDEX login_failures_by_address ON login_failures (address, at);
