"""Type stubs for autocrm.synth (seeded synthetic dealer networks)."""
import datetime as _dt
import os
from typing import Any, Dict, Optional, Union

from . import Database

__all__ = ["generate", "write_dirty"]

def generate(
    db: Database,
    customers: int = 1000,
    seed: int = 42,
    dealers: Optional[int] = None,
    as_of: Union[_dt.date, str, None] = None,
    years: int = 5,
    batch: int = 1000,
) -> Dict[str, int]: ...
def write_dirty(
    dir: Union[str, os.PathLike[str]],
    customers: int = 1000,
    seed: int = 42,
    dirt: float = 0.1,
    gbk: bool = False,
    as_of: Union[_dt.date, str, None] = None,
    db: Optional[Database] = None,
) -> Dict[str, Any]: ...
