"""Sensor alerts: rules as versioned data, events opened and ended by evaluation, acknowledged by operators."""
