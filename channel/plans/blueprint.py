"""The plans blueprint: the planning grid and plan pages (views.py), plan versus actual with its
charts (actual_views.py), the plan-versus-actual PDFs (report_views.py)."""
from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/plans")
