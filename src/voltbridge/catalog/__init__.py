"""Real bidirectional vehicles and chargers with sourced figures, and whether they work together."""

from voltbridge.catalog.compat import (
    EXPORT_POLICIES,
    Certification,
    EffectiveLimits,
    Mode,
    Verdict,
    certification,
    check_compatibility,
    effective_limits,
)
from voltbridge.catalog.load import Catalog, CatalogError, CatalogLookupError, load_catalog
from voltbridge.catalog.models import UNKNOWN, ChargerSpec, VehicleSpec, unknown_to_none
from voltbridge.catalog.render import catalog_json, catalog_table

__all__ = [
    "EXPORT_POLICIES",
    "UNKNOWN",
    "Catalog",
    "CatalogError",
    "CatalogLookupError",
    "Certification",
    "ChargerSpec",
    "EffectiveLimits",
    "Mode",
    "VehicleSpec",
    "Verdict",
    "catalog_json",
    "catalog_table",
    "certification",
    "check_compatibility",
    "effective_limits",
    "load_catalog",
    "unknown_to_none",
]
