"""Process settings from the environment (and a .env file, if present)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite+aiosqlite:///escalation-bot.db", validation_alias="DATABASE_URL")
    escalation_config: str = Field(default="escalation.yaml", validation_alias="ESCALATION_CONFIG")
    host: str = Field(default="0.0.0.0", validation_alias="HOST")  # noqa: S104 - a server listens on all interfaces
    port: int = Field(default=3000, validation_alias="PORT")
    log_format: str = Field(default="json", validation_alias="LOG_FORMAT")  # json | text
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")

    sweep_interval: float = Field(default=5.0, validation_alias="SWEEP_INTERVAL_SECONDS", gt=0)
    dispatch_interval: float = Field(default=1.0, validation_alias="DISPATCH_INTERVAL_SECONDS", gt=0)
    replica_id: str | None = Field(default=None, validation_alias="REPLICA_ID")
