"""Cash application: bank statements (CAMT.053, BAI2, MT940, CSV) matched to open invoices."""
