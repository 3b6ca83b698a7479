"""Model monitoring: drift, outcome performance, the retraining loop."""
