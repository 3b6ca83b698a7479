"""The customer view: exposure, scores with reasons, open invoices, promises, disputes, plan, activity."""
