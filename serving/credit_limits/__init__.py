"""Credit-limit recommendations (policy in ``models.credit_limit``) and analysts' decisions."""
