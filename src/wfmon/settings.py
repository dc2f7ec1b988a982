"""Settings from the environment, read once by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG = "wfmon.yaml"
DEFAULT_DATA_DIR = ".wfmon"


@dataclass(frozen=True)
class Settings:
    config_path: Path
    data_dir: Path
    database_url: str

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        config_path: str | Path | None = None,
        data_dir: str | Path | None = None,
        database_url: str | None = None,
    ) -> Settings:
        env = os.environ if environ is None else environ
        config = Path(config_path or env.get("WFMON_CONFIG") or DEFAULT_CONFIG)
        data = Path(data_dir or env.get("WFMON_DATA_DIR") or DEFAULT_DATA_DIR)
        url = database_url or env.get("WFMON_DATABASE_URL") or f"sqlite:///{data / 'wfmon.db'}"
        return cls(config_path=config, data_dir=data, database_url=url)
