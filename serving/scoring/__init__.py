"""Scoring of feature rows and SHAP explanations of a customer's score."""
