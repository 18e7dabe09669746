"""The expenses blueprint: claims and approvals (views.py), budgets, settings and the monthly
summary (budget_views.py), the voucher PDF (voucher_views.py)."""
from flask import Blueprint

bp = Blueprint("expenses", __name__, url_prefix="/expenses")
