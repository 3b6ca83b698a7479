"""Cash application over HTTP: statement upload, the exceptions queue, reversals."""
