"""OpenID Connect single sign-on: providers, linked identities, group mappings, the sign-in policy."""
