"""What `make run` and the tests start locally: the WHM stand-in (``whm_server``) and the demo
book (``demo``, with its hosting accounts on the sandbox panel in ``demo_accounts``). The
running product imports nothing from here except through the CLI's ``serve`` and ``demo``."""
