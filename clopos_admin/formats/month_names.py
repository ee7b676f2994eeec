"""Month names in dates ("27 noyabr 2026"), as our catalogues correct them.

Django's own catalogue writes Azerbaijani month names capitalised inside a date ("27 Noyabr
2026"); Azerbaijani writes them in lower case. The date formats (DATE_FORMAT "j E Y",
MONTH_DAY_FORMAT "j E") take the month from these messages (context "alt. month"), so marking them
here puts them in our catalogues, which Django reads before its own (LOCALE_PATHS). Russian keeps
Django's genitive forms ("27 ноября"). Nothing imports this module: it exists to be extracted.
"""

from django.utils.translation import pgettext_lazy

MONTHS_IN_DATES = (
    pgettext_lazy("alt. month", "January"),
    pgettext_lazy("alt. month", "February"),
    pgettext_lazy("alt. month", "March"),
    pgettext_lazy("alt. month", "April"),
    pgettext_lazy("alt. month", "May"),
    pgettext_lazy("alt. month", "June"),
    pgettext_lazy("alt. month", "July"),
    pgettext_lazy("alt. month", "August"),
    pgettext_lazy("alt. month", "September"),
    pgettext_lazy("alt. month", "October"),
    pgettext_lazy("alt. month", "November"),
    pgettext_lazy("alt. month", "December"),
)
