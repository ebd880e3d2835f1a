"""Users, roles, passwords, access and refresh tokens, and the JWKS."""
