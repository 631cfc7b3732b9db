"""Loyalty rules: joining, stamping, rewards, vouchers and redemption. No aiogram, no HTTP."""
