"""Authentication: passwords, sessions, tokens, CSRF, login throttling, `require(scope)`."""
