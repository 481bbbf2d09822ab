from .context import current_socket as current_socket
from .context import is_socket_call as is_socket_call
from .errors import BackendUnavailable as BackendUnavailable
from .errors import ConfigurationError as ConfigurationError
from .errors import HandlerError as HandlerError
from .errors import RealtimeError as RealtimeError
from .extension import Realtime as Realtime
from .page_socket import PageSocket as PageSocket

__all__ = [
    "BackendUnavailable",
    "ConfigurationError",
    "HandlerError",
    "PageSocket",
    "Realtime",
    "RealtimeError",
    "current_socket",
    "is_socket_call",
]
