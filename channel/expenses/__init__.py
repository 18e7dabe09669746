"""Expense claims (报销), approvals and regional budgets."""
