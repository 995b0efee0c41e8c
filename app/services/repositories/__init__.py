"""Repositories: all SQL of the service lives here. They add and query; they never commit."""

from app.services.repositories.forecasts import ForecastFilters, ForecastRepository
from app.services.repositories.pools import PoolRepository

__all__ = ["ForecastFilters", "ForecastRepository", "PoolRepository"]
