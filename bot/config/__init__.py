"""Settings: the core's groups (`sections`) and how they are read (`loader`)."""

from bot import ConfigError
from bot.config.loader import CONFIG_ENV, load_section, load_settings
from bot.config.sections import (
    KnowledgeSettings,
    LeadsSettings,
    LlmSettings,
    PipelineSettings,
    PrivacySettings,
    Section,
    ServingSettings,
    Settings,
    StorageSettings,
    setting,
)
from bot.config.validators import comma_list, mask_url_password, url_of

__all__ = [
    "CONFIG_ENV",
    "ConfigError",
    "KnowledgeSettings",
    "LeadsSettings",
    "LlmSettings",
    "PipelineSettings",
    "PrivacySettings",
    "Section",
    "ServingSettings",
    "Settings",
    "StorageSettings",
    "comma_list",
    "load_section",
    "load_settings",
    "mask_url_password",
    "setting",
    "url_of",
]
