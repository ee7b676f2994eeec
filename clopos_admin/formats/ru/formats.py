"""Russian: Django's formats, except the day and month, which Django gives in the nominative
("27 Ноябрь"); a date needs the genitive ("27 ноября")."""

MONTH_DAY_FORMAT = "j E"
