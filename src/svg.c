/* placeholder */ typedef int mtl_svg_unused;
