"""Collection worklist: batch refresh (``refresh_worklist``) and the ranked, filtered, paginated read."""
