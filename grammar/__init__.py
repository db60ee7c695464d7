"""envc's grammars (lark) and the pure-Python parsers generated from them by grammar/build.py."""
