"""The cloud side of PrintDesk: Stripe webhooks into the shop database, and its maintenance."""
