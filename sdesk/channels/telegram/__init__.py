"""The Telegram channel: the desk's bot, every update exactly once (ARCHITECTURE.md rules 1-2).

``poller`` runs its own ``getUpdates`` loop on python-telegram-bot's ``Bot`` (not its
``Application``, whose updater confirms updates whether or not they were handled); ``store``
turns a batch into one transaction with its cursor; ``intake`` maps an update to an
``Inbound``; ``files`` downloads; ``commands`` answers /start, /new and /status; ``sender``
sends the outbox's rows; ``webhook`` takes pushed updates; ``service`` runs it all.
"""
