"""iCalendar feeds: each person's My work dates and each project's dates, under secret addresses."""
