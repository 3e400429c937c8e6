"""The numbered day/time menu that the "ask_schedule" message offers: choice -> (weekday, hour)."""

from __future__ import annotations

MORNING_HOUR, EVENING_HOUR = 9, 18
# Weekday 0 is Monday. The confirmation texts are sized for these days only.
SCHEDULE_MENU = {
    1: (0, MORNING_HOUR),
    2: (0, EVENING_HOUR),
    3: (2, MORNING_HOUR),
    4: (2, EVENING_HOUR),
    5: (6, MORNING_HOUR),
    6: (6, EVENING_HOUR),
}
DEFAULT_SCHEDULE = SCHEDULE_MENU[1]
