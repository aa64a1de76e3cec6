"""costshare: split a library consortium's e-resource bills among its members."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from config import Config
from costshare.urls import IdConverter

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type[Config] | Config = Config) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors, commands."""
    config = config_class() if isinstance(config_class, type) else config_class
    app = Flask(
        __name__,
        instance_path=str(config.INSTANCE_PATH),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_object(config)
    app.url_map.converters["int"] = IdConverter
    trust_proxies(app)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_HOPS reverse proxies, read the client's address and scheme from the
    X-Forwarded-For/-Proto headers they set; with 0 (the default), ignore them.

    X-Forwarded-Host is never trusted: nginx passes a client's header through unless told
    otherwise, and the host builds absolute links. The proxy passes the Host header on.
    """
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_extensions(app: Flask) -> None:
    from costshare import db
    from costshare.extensions import csrf, limiter, login_manager

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    from costshare.access import check_every_route_has_a_rule
    from costshare.allocations.views import blueprint as allocations
    from costshare.api.views import blueprint as api
    from costshare.audit.views import blueprint as audit
    from costshare.auth.views import blueprint as auth
    from costshare.formulas.views import blueprint as formulas
    from costshare.home.views import blueprint as home
    from costshare.invoices.views import blueprint as invoices
    from costshare.members.views import blueprint as members
    from costshare.negotiation.views import blueprint as negotiation
    from costshare.offers.views import blueprint as offers
    from costshare.portal.views import blueprint as portal
    from costshare.statements.views import blueprint as statements
    from costshare.usage.views import blueprint as usage
    from costshare.users.views import blueprint as users
    from costshare.vendors.views import blueprint as vendors

    for blueprint in (
        auth,
        home,
        members,
        vendors,
        offers,
        formulas,
        allocations,
        negotiation,
        usage,
        invoices,
        statements,
        portal,
        users,
        audit,
        api,
    ):
        app.register_blueprint(blueprint)
    check_every_route_has_a_rule(app)


def register_errorhandlers(app: Flask) -> None:
    from costshare.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from costshare.formatting import register

    register(app)


def register_security_headers(app: Flask) -> None:
    from costshare.security import register

    register(app)


def register_commands(app: Flask) -> None:
    from costshare.cli import register

    register(app)
