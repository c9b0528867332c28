"""Data shipped with landready: the versioned rules file and the demo zone (生成器 and its committed bundle)."""

from pathlib import Path

DATA_DIR = Path(__file__).parent
RULES_FILE = DATA_DIR / "rules" / "rules.toml"
DEMO_BUNDLE = DATA_DIR / "demo"
