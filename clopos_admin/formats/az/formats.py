"""Azerbaijani: Django's formats, except the day and month, written like Django's full date
("27 noyabr", not "27 Noyabr")."""

MONTH_DAY_FORMAT = "j E"
