from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import supervisor_regions
from ..db_types import UTCDateTime, utcnow
from ..extensions import db

ACCOUNT_KINDS = ("distributor", "dealer")
ACCOUNT_STATUSES = ("active", "suspended")


class Region(db.Model):
    __tablename__ = "regions"
    __table_args__ = (CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent = relationship("Region", remote_side=[id], back_populates="children")
    children = relationship("Region", back_populates="parent", order_by="Region.code")
    supervisors = relationship(
        "User", secondary=supervisor_regions, back_populates="supervised_regions",
        order_by="User.username",
    )

    @property
    def path(self) -> str:
        """华北 › 北京"""
        names, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            names.append(node.name)
            node = node.parent
        return " › ".join(reversed(names))

    @property
    def tree_key(self) -> tuple:
        """Codes from the top region down: sorting by it lists each parent before its children."""
        codes, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            codes.append(node.code)
            node = node.parent
        return tuple(reversed(codes))

    def __str__(self):
        return self.path


def in_tree_order(regions):
    return sorted(regions, key=lambda r: r.tree_key)


class Account(db.Model):
    """A customer account (往来单位): a general distributor or a dealer."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACCOUNT_KINDS!r}", name="kind_known"),
        CheckConstraint(f"status IN {ACCOUNT_STATUSES!r}", name="status_known"),
        # General distributors buy from the company; only dealers may have a distributor supplier.
        CheckConstraint("kind = 'dealer' OR supplier_id IS NULL", name="distributor_buys_from_company"),
        CheckConstraint("supplier_id IS NULL OR supplier_id <> id", name="not_own_supplier"),
        CheckConstraint("credit_limit_fen >= 0", name="credit_limit_not_negative"),
        CheckConstraint("payment_terms_days >= 0 AND payment_terms_days <= 365", name="terms_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    credit_limit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    status: Mapped[str] = mapped_column(String(20), default="active")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    supplier = relationship("Account", remote_side=[id], back_populates="dealers")
    dealers = relationship("Account", back_populates="supplier", order_by="Account.code")
    region = relationship("Region")

    @property
    def is_distributor(self):
        return self.kind == "distributor"

    def __str__(self):
        return f"{self.code} {self.name}"


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("list_price_fen >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    unit: Mapped[str] = mapped_column(String(20))
    list_price_fen: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __str__(self):
        return f"{self.code} {self.name}"
