"""Youpin Trace (咸宁优品溯源): the application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import flask_babel
import flask_swagger_ui
from flask import Flask, has_request_context, jsonify, request, send_from_directory
from flask_babel import Babel
from flask_migrate import Migrate
from flask_smorest import Api

from app.config import Settings
from app.db import db, init_engines, wrote_in

migrate = Migrate(compare_type=True, render_as_batch=True)
babel = Babel()

SUPPORTED_LOCALES = ("zh", "en")


def select_locale() -> str:
    """``?lang=`` wins, then the browser's Accept-Language; Chinese when neither says.

    Outside a request (the CLI, a job) it is Chinese; ``force_locale`` chooses otherwise.
    """
    if not has_request_context():
        return "zh"
    wanted = request.args.get("lang", "")
    if wanted in SUPPORTED_LOCALES:
        return wanted
    # By q-value, a regional tag counting for its language: "en;q=0.4, zh-CN;q=0.8" is Chinese
    # (werkzeug's best_match prefers any exact match, however low its q, to a regional one).
    for tag, quality in request.accept_languages:
        primary = tag.split("-", 1)[0].split("_", 1)[0].lower()
        if quality > 0 and primary in SUPPORTED_LOCALES:
            return primary
    return "zh"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env(instance_path=app.instance_path)
    settings.validate()
    app.config.update(settings.flask_config())
    from app.checkpoints.config import checkpoint_config

    app.config.update(checkpoint_config(os.environ, app.instance_path))
    if config:
        app.config.update(config)
        if "SQLALCHEMY_DATABASE_URI" in config and "SQLALCHEMY_ENGINE_OPTIONS" not in config:
            from app.config import engine_options, normalize_database_url

            url = normalize_database_url(config["SQLALCHEMY_DATABASE_URI"])
            app.config["SQLALCHEMY_DATABASE_URI"] = url
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(url)
    _secret_key(app)

    db.init_app(app)
    init_engines(app)
    _import_models()
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the locale on ``g``, which lives as long as the app context (in tests one
    # context serves many requests): each request chooses its language afresh.
    app.before_request(flask_babel.refresh)
    # Every page, error pages included, names its language with get_locale().
    app.jinja_env.globals["get_locale"] = flask_babel.get_locale
    from app.batches.vocabulary import status_name

    # A batch's status in the page's language, from its one table (app/batches/vocabulary.py).
    app.jinja_env.globals["status_name"] = status_name

    from app.schemas import DecimalIn, DecimalString, IdConverter

    # Before any blueprint: every route with a row id in its path says ``<id:...>``.
    app.url_map.converters["id"] = IdConverter
    api = Api(app, spec_kwargs={"info": {"description": "Traceability for Xianning's six regional-brand products."}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.register_field(DecimalString, "string", "decimal")
    api.register_field(DecimalIn, None, None)
    from app.account import limits as login_limits
    from app.account import sessions

    sessions.init_app(app)
    _register_blueprints(app, api)
    # The limiter's check is an app-wide before_request: it runs ahead of the blueprints' own.
    login_limits.init_app(app)
    from app.account.views import init_app as init_account

    init_account(app)

    from app.compliance import init_app as init_compliance

    init_compliance(app)

    from app.holds import init_app as init_holds

    init_holds(app)

    from app.errors import register_error_handlers

    register_error_handlers(app)

    from app.cli import register_cli

    register_cli(app)
    from app.checkpoints.cli import checkpoints_cli

    app.cli.add_command(checkpoints_cli)
    from app.jobs.cli import jobs_cli
    from app.labels.cli import labels_cli

    app.cli.add_command(jobs_cli)
    app.cli.add_command(labels_cli)

    # Registered first so its after_request runs last: even a 409 from the commit gets the headers.
    _guard_doors(app)
    _commit_per_request(app)

    swagger_assets = Path(flask_swagger_ui.__file__).resolve().parent / "dist"

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets_file(filename: str) -> Any:
        """Swagger UI's own files, served locally so the docs page works offline."""
        return send_from_directory(swagger_assets, filename, max_age=86400)

    return app


def _secret_key(app: Flask) -> None:
    """No configured SECRET_KEY: outside production one generated into instance/ (Settings.validate
    already refused production), never the development value everyone can read."""
    from app.config import DEFAULT_SECRET_KEY, ConfigError, instance_secret_key

    if app.config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET_KEY):
        if app.config.get("APP_ENV") == "production":
            raise ConfigError("SECRET_KEY is unset; set a long random one before starting with APP_ENV=production")
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)


def _guard_doors(app: Flask) -> None:
    """What every request passes before its view, and every response gets (app/security.py)."""
    import secrets

    from flask import Response, abort

    from app import security
    from app.auth import authorize

    @app.before_request
    def authenticate_first() -> None:
        # A view marked by require_roles refuses a missing login before webargs parses the body.
        view = app.view_functions.get(request.endpoint or "")
        if request.method != "OPTIONS" and getattr(view, "requires_login", False):
            authorize(getattr(view, "login_roles", None))

    @app.before_request
    def refuse_deep_json() -> None:
        # Python's json recurses; the bytes are scanned first (get_data is a 413 past the limit).
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
            return
        if security.json_nesting_depth(request.get_data(cache=True)) > security.MAX_JSON_DEPTH:
            abort(400, description=f"The JSON body is nested too deep (at most {security.MAX_JSON_DEPTH} levels).")

    def csp_nonce() -> str:
        """This response's nonce for an inline ``<style>``; the header names the same one."""
        return request.environ.setdefault("youpin.csp_nonce", secrets.token_urlsafe(16))

    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def security_headers(response: Response) -> Response:
        docs = request.path.rstrip("/") == "/api/docs"
        for name, value in security.security_headers(response.mimetype, csp_nonce(), docs).items():
            response.headers.setdefault(name, value)
        return response


def _commit_per_request(app: Flask) -> None:
    """Each request commits once when it succeeded and rolls back otherwise (services only flush)."""
    from flask import Response
    from sqlalchemy.exc import IntegrityError

    from app.errors import error_body

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        if response.status_code >= 400 or (request.method in ("GET", "HEAD") and not wrote_in(db.session)):
            # A failed request keeps nothing; a read that wrote nothing ends its transaction
            # without a COMMIT (a GET commits only the logs of reads: scans, sessions).
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except IntegrityError:
            # A race another request won (a unique key taken between our check and our commit).
            db.session.rollback()
            app.logger.warning("integrity error at commit on %s %s", request.method, request.path, exc_info=True)
            conflict = jsonify(error_body(409, "The request conflicts with a concurrent change; retry it."))
            conflict.status_code = 409
            return conflict
        return response


def _import_models() -> None:
    # Every model module, so metadata is complete for Alembic and relationships resolve.
    from app.account import models as _account  # noqa: F401
    from app.batches import models as _batches  # noqa: F401
    from app.catalog import models as _catalog  # noqa: F401
    from app.checkpoints import models as _checkpoints  # noqa: F401
    from app.commitments import models as _commitments  # noqa: F401
    from app.compliance import models as _compliance  # noqa: F401
    from app.custody import models as _custody  # noqa: F401
    from app.field import models as _field  # noqa: F401
    from app.jobs import models as _jobs  # noqa: F401
    from app.labels import models as _labels  # noqa: F401
    from app.lineage import models as _lineage  # noqa: F401
    from app.office import models as _office  # noqa: F401
    from app.orgs import models as _orgs  # noqa: F401
    from app.recalls import models as _recalls  # noqa: F401
    from app.sync import models as _sync  # noqa: F401


def _register_blueprints(app: Flask, api: Api) -> None:
    from app.catalog.views import blp as catalog_blp
    from app.health import bp as health_bp
    from app.orgs.views import blp as orgs_blp

    api.register_blueprint(catalog_blp)
    api.register_blueprint(orgs_blp)
    app.register_blueprint(health_bp)
    for module in FEATURE_BLUEPRINTS:
        _register_optional(app, api, module)


# Feature view modules; each exposes ``blp`` (API, documented) and/or ``bp`` (pages).
FEATURE_BLUEPRINTS: tuple[str, ...] = (
    "app.batches.views",
    "app.sync.views",
    "app.lineage.views",
    "app.custody.views",
    "app.labels.views",
    "app.labels.resolver",
    "app.labels.pages",
    "app.jobs.views",
    "app.compliance.views",
    "app.recalls.views",
    "app.holds.views",
    "app.commitments.views",
    "app.public.views",
    "app.web.batch_actions",  # its routes join the desk blueprint before it is registered
    "app.web.registry",  # so do these
    "app.web.views",
    "app.checkpoints.views",
    "app.field.certificates",  # its routes join the field blueprint before it is registered
    "app.field.import_views",  # likewise, and /api/v1/imports
    "app.field.custody_pages",  # likewise
    "app.field.label_print",  # likewise
    "app.field.views",
    "app.office.views",
    "app.office.pages",
    "app.account.views",
)


def _register_optional(app: Flask, api: Api, module_name: str) -> None:
    import importlib
    import importlib.util

    # A feature whose views have not landed yet is simply absent; tests/test_app.py checks
    # that every module listed here exists once they all have.
    if importlib.util.find_spec(module_name) is None:
        return
    module = importlib.import_module(module_name)
    if hasattr(module, "blp"):
        api.register_blueprint(module.blp)
    if hasattr(module, "bp"):
        app.register_blueprint(module.bp)
