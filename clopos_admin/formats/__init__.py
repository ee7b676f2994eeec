"""Our date, time and number formats, per language (settings.FORMAT_MODULE_PATH).

Each module overrides only what differs from Django's own `django/conf/locale/<code>/formats.py`;
every other format comes from Django's. Templates name formats ("DATE_FORMAT", "TIME_FORMAT",
"DATETIME_FORMAT", "MONTH_DAY_FORMAT"), never write a pattern of their own, so each language
gets its own.
"""
