"""rizhilu (日知录): a Telegram bot that keeps a daily work journal in markdown."""

__version__ = "0.1.0"
