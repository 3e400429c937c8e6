"""Staff: accounts, sign-in and tokens, reports and exports."""
