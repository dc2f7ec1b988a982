"""One module per resource; each builds its APIRouter from the app's services."""
