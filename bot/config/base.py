"""What every settings group shares: one flat name and one short name per field,
frozen values, secrets masked."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr

from bot.config.validators import mask_url_password, url_password

__all__ = ["Section", "setting", "short_name"]


def setting(env: str, default: Any = None, **kwargs: Any) -> Any:
    """A field read from `env` (any case), or from its short name in TOML and overrides."""
    return Field(default, validation_alias=AliasChoices(env, short_name(env)), **kwargs)


def short_name(env: str) -> str:
    """`SUPPORTBOT_SLA_HIGH_MINUTES` -> `sla_high_minutes` (TOML keys, overrides)."""
    return env.lower().removeprefix("supportbot_")


class Section(BaseModel):
    """A group of settings: frozen, validated once at startup."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_name=True)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets `field` (for messages to operators)."""
        alias = cls.model_fields[field].validation_alias
        assert isinstance(alias, AliasChoices)
        return str(alias.choices[0])

    def secret_values(self) -> list[str]:
        """The raw values of every secret set in this group, passwords inside URLs too."""
        values = self.__dict__.values()
        secrets = [v.get_secret_value() for v in values if isinstance(v, SecretStr)]
        passwords = [url_password(v) for v in values if isinstance(v, str) and "://" in v]
        return [*secrets, *(p for p in passwords if p)]

    def masked(self) -> dict[str, str]:
        """Effective values by environment name, secrets masked, for `supportbot config`."""
        return {
            self.env_name(field): _shown(getattr(self, field)) for field in type(self).model_fields
        }


def _shown(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "********  (set)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, str) and "://" in value:
        return mask_url_password(value)  # gateways and proxies carry `user:pass@` too
    return "" if value is None else str(value)
