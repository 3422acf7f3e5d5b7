"""Flask extension objects, created unbound and initialised in ``create_app``."""

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis.exceptions import RedisError
from sqlalchemy import MetaData

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Objects keep what a transaction wrote after it commits, instead of reloading it (one
# SELECT less per object a view shows after calling a service).
db = SQLAlchemy(
    metadata=MetaData(naming_convention=NAMING_CONVENTION),
    session_options={"expire_on_commit": False},
)
migrate = Migrate()
csrf = CSRFProtect()
mail = Mail()
login_manager = LoginManager()
babel = Babel()
# Limits per client address; storage from RATELIMIT_STORAGE_URI: memory:// counts in each
# worker process on its own, redis:// shares the counts between processes and machines;
# RATELIMIT_ENABLED = False switches them off (benchmarks).
limiter = Limiter(key_func=get_remote_address)
# Whole public pages for anonymous visitors (page_cache.py) and the booklet's PDFs;
# CACHE_TYPE chooses the backend.
cache = Cache()
# What the cache raises when its shared backend (Redis) is unreachable or timed out.
CACHE_DOWN = (RedisError, OSError)
