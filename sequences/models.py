"""Nurture tracks. The sequences issue gives each track its ordered steps."""

from django.db import models


class Track(models.Model):
    """A nurture sequence a lead can be enrolled in, named by a stable key."""

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
